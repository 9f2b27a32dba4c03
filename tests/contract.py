"""The frontend teams' operations (`../shared/contract/operations.graphql`), one by one.

`PENDING_OPERATIONS` is the one place that lists what the server does not serve yet; each
issue that builds a feature removes its operations from it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "shared" / "contract" / "operations.graphql"

PENDING_OPERATIONS = frozenset(
    {
        # stories, reels, messages, notifications, realtime (later issues)
        "CreateStory", "StoryTray", "MarkStorySeen", "StoryViewers",
        "CreateReel", "Reels", "RecordReelView",
        "SendMessage", "Inbox", "ThreadMessages", "MarkThreadRead",
        "Notifications", "MarkNotificationsRead",
        "PostLiked", "CommentAdded", "MessageReceived", "NotificationReceived",
    }
)  # fmt: skip


@functools.cache
def contract_document() -> DocumentNode:
    return parse(CONTRACT_PATH.read_text())


def operation_names() -> list[str]:
    return [
        definition.name.value
        for definition in contract_document().definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    ]


def served_operation_names() -> list[str]:
    return [name for name in operation_names() if name not in PENDING_OPERATIONS]


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def operation_source(name: str) -> str:
    """The operation with every fragment it uses, as a client would send it."""
    definitions = contract_document().definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(
        d
        for d in definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None and d.name.value == name
    )
    needed: dict[str, FragmentDefinitionNode] = {}
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for fragment_name in collector.names - needed.keys():
            needed[fragment_name] = fragments[fragment_name]
            pending.append(fragments[fragment_name])
    return "\n\n".join(print_ast(node) for node in [operation, *needed.values()])
