"""Training and offline evaluation of the engagement model (`pictograph train-ranker`,
`pictograph eval-ranker`). Imported only by the CLI: the server imports nothing from here,
and only `train` needs the optional `train` extra (PyTorch, onnx)."""
