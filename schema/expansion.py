"""How big a document is once its fragments are spread, counted before it is validated.

graphql-core's validation (and the depth and alias rules) walks every fragment wherever it
is spread, so a document whose fragments each spread the previous one twice doubles the
work per level: 20 levels, 835 characters, took 7.7 s. Counting the expanded selections
with each fragment's size memoised is linear in the document, and a document over the
bound is refused before any validation rule sees it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from resolvers.errors import QueryTooCostly

# Selections a document may hold with its fragments spread. The largest contract operation
# (CreatePost, with PostCard and UserChip spread) holds 37.
MAX_EXPANDED_SELECTIONS = 1_000
# How often one response name may be selected on one object, fragments merged. Validation
# compares every pair of same-named fields, and their subfields pair by pair, so repeats
# multiply its work level by level: 10 repeats of a field with subfields at two levels took
# 230 ms. Colocated fragments repeat a field a few times; a leaf compares cheaply.
MAX_REPEATS_WITH_SUBFIELDS = 5
MAX_REPEATS_OF_A_LEAF = 50


class DocumentTooLarge(ValueError):
    """Why the document is refused, in words a client can act on."""


def expanded_selections(document: DocumentNode) -> int:
    """Selections (fields, inline fragments, spreads) of every operation, each fragment
    counted wherever it is spread; DocumentTooLarge once that passes MAX_EXPANDED_SELECTIONS
    (on one operation) or a field repeats over the bounds.
    A spread of an unknown fragment, or one in a cycle, counts one: validation reports
    those."""
    expansion = _Expansion(
        {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
    )
    return sum(
        expansion.size(definition.selection_set, frozenset())
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    )


class _Expansion:
    """Each fragment's size and merged field names, computed once however often it is
    spread: linear in the document."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._sizes: dict[str, int] = {}
        self._names: dict[str, Counter[tuple[str, bool]]] = {}

    def size(self, selection_set: SelectionSetNode, spreading: frozenset[str]) -> int:
        self._check_repeats(selection_set, spreading)
        total = 0
        for selection in selection_set.selections:
            total += 1
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                if name not in self._sizes:
                    self._sizes[name] = self.size(fragment.selection_set, spreading | {name})
                total += self._sizes[name]
            elif (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                total += self.size(selection.selection_set, spreading)
            if total > MAX_EXPANDED_SELECTIONS:
                # Stopped at once: the walk never visits much more than the bound.
                raise DocumentTooLarge(
                    f"The document holds more than {MAX_EXPANDED_SELECTIONS} selections "
                    "with its fragments spread, which is more than one request may."
                )
        return total

    def _check_repeats(self, selection_set: SelectionSetNode, spreading: frozenset[str]) -> None:
        for (name, has_subfields), count in self._merged_names(selection_set, spreading).items():
            bound = MAX_REPEATS_WITH_SUBFIELDS if has_subfields else MAX_REPEATS_OF_A_LEAF
            if count > bound:
                raise DocumentTooLarge(
                    f"`{name}` is selected {count} times on one object, fragments included; "
                    f"at most {bound} are allowed."
                )

    def _merged_names(
        self, selection_set: SelectionSetNode, spreading: frozenset[str]
    ) -> Counter[tuple[str, bool]]:
        """The response names one object gets from this selection set, as validation merges
        them: its fields and those of the fragments it spreads at the same level."""
        names: Counter[tuple[str, bool]] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                response_name = (selection.alias or selection.name).value
                names[(response_name, selection.selection_set is not None)] += 1
            elif isinstance(selection, InlineFragmentNode):
                names.update(self._merged_names(selection.selection_set, spreading))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                if name not in self._names:
                    self._names[name] = self._merged_names(
                        fragment.selection_set, spreading | {name}
                    )
                names.update(self._names[name])
        return names


class ExpandedSizeLimiter(SchemaExtension):
    """Refuses a document over MAX_EXPANDED_SELECTIONS before validation. It must come
    before ValidationCache, whose hook is where validation runs."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            try:
                expanded_selections(document)
            except DocumentTooLarge as error:
                raise QueryTooCostly(str(error)) from None
        yield
