"""Finding a trusted document by its id: the contract's (in the package), then this
process's cache of registered ones, then MongoDB, the truth every process shares.

Only hits are cached, and a hit never goes stale (an id is the hash of its body), so a
manifest registered from any process is seen by every process on its next request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from app.trusted.manifest import is_document_id
from storage.trusted_document import TrustedDocument, TrustedDocumentStore

# Bodies a process keeps in memory: a few apps' manifests of a few hundred operations of a
# few KB each fit many times over; beyond it the least recently used go back to MongoDB.
TRUSTED_CACHE_BYTES = 8 * 1024 * 1024


class _LeastRecentlyUsed:
    """Documents bounded by the bytes of their bodies, not by their number."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._documents: OrderedDict[str, TrustedDocument] = OrderedDict()

    def get(self, document_id: str) -> TrustedDocument | None:
        document = self._documents.get(document_id)
        if document is not None:
            self._documents.move_to_end(document_id)
        return document

    def put(self, document: TrustedDocument) -> None:
        if document.id in self._documents:
            return
        self._documents[document.id] = document
        self._bytes += len(document.body)
        while self._bytes > self._max_bytes:
            _, evicted = self._documents.popitem(last=False)
            self._bytes -= len(evicted.body)


class TrustedDocuments:
    def __init__(
        self,
        built_in: Iterable[TrustedDocument],
        store: TrustedDocumentStore,
        *,
        cache_bytes: int = TRUSTED_CACHE_BYTES,
    ) -> None:
        self._built_in = {document.id: document for document in built_in}
        self._store = store
        self._cache = _LeastRecentlyUsed(cache_bytes)

    async def find(self, document_id: str) -> TrustedDocument | None:
        if not is_document_id(document_id):
            return None  # never a lookup for what cannot be an id
        document = self._built_in.get(document_id) or self._cache.get(document_id)
        if document is not None:
            return document
        document = await self._store.find(document_id)
        if document is not None:
            self._cache.put(document)
        return document
