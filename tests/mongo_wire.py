"""A MongoDB wire-protocol test server backed by mongomock: `python -m tests.mongo_wire
--port N`.

Why: mongomock lives inside one Python process, and no MongoDB server can be installed on
this machine, so without this several OS processes could not share one database. This
server speaks the protocol (mockupdb parses OP_MSG and writes replies) and executes each
command on one `mongomock.MongoClient`, so every process connects to it with a normal
`mongodb://127.0.0.1:<port>` URL through motor, as it would to MongoDB.

What it is not: MongoDB. Its semantics are mongomock's (the same as the embedded mode's):
no transactions, sessions or retryable writes (its hello announces no
logicalSessionTimeoutMinutes, so drivers send none), no TTL expiry (expireAfterSeconds is
kept on the index and never acted on), no replication, no authentication, one command at a
time. A command it does not implement is answered with CommandNotFound (59) and logged, so
a gap shows as an error instead of a wrong answer.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import mongomock
from mockupdb import OP_MSG_FLAGS, MockupDB, OpMsg
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

logger = logging.getLogger(__name__)

Document = dict[str, Any]

# What a real server would announce in hello; drivers size their batches by these.
MAX_WIRE_VERSION = 17  # MongoDB 6.0: OP_MSG, and what pymongo 4.x requires at least
MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE_BYTES = 48_000_000
MAX_WRITE_BATCH_SIZE = 100_000
# MongoDB's first batch when a find or aggregate names none: 101 documents.
DEFAULT_FIRST_BATCH = 101
COMMAND_NOT_FOUND = 59
DUPLICATE_KEY = 11000
# mongomock raises some errors without a code; MongoDB's generic "bad value" stands in.
BAD_VALUE = 2
INTERNAL_ERROR = 1
NAMESPACE_NOT_FOUND = 26
CURSOR_NOT_FOUND = 43


class CommandFailed(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Cursor:
    namespace: str
    remaining: Iterator[Document]


class WireDatabase:
    """Executes MongoDB commands (as documents) on one mongomock client, one at a time."""

    def __init__(self) -> None:
        self._client: Any = mongomock.MongoClient()
        self._lock = threading.Lock()  # mockupdb serves each connection on its own thread
        self._cursors: dict[int, _Cursor] = {}
        self._cursor_ids = itertools.count(1)
        self._commands: dict[str, Callable[[str, Document], Document]] = {
            "hello": self._hello,
            "ismaster": self._hello,
            "ping": self._ok,
            "buildinfo": self._build_info,
            "endsessions": self._ok,
            "killcursors": self._kill_cursors,
            "insert": self._insert,
            "find": self._find,
            "getmore": self._get_more,
            "update": self._update,
            "delete": self._delete,
            "findandmodify": self._find_and_modify,
            "aggregate": self._aggregate,
            "count": self._count,
            "distinct": self._distinct,
            "createindexes": self._create_indexes,
            "listindexes": self._list_indexes,
            "drop": self._drop,
            "dropdatabase": self._drop_database,
        }

    def execute(self, database: str, command: Mapping[str, Any]) -> Document:
        """The reply document (`ok` included) to `command` run on `database`."""
        name = next(iter(command))
        handler = self._commands.get(name.lower())
        if handler is None:
            logger.warning("unsupported command %r: %r", name, dict(command))
            return _error(COMMAND_NOT_FOUND, f"no such command: '{name}' (tests/mongo_wire.py)")
        with self._lock:
            try:
                reply = handler(database, dict(command))
            except CommandFailed as failure:
                return _error(failure.code, str(failure))
            except OperationFailure as failure:
                return _error(failure.code or BAD_VALUE, str(failure))
            except Exception as failure:  # answered, so the client sees it (not a hang-up)
                logger.exception("command %r failed in mongomock", name)
                return _error(INTERNAL_ERROR, f"{name} failed in mongomock: {failure!r}")
        return {**reply, "ok": 1}

    # ---------------------------------------------------------------- the server itself

    def _ok(self, database: str, command: Document) -> Document:
        return {}

    def _hello(self, database: str, command: Document) -> Document:
        return {
            "helloOk": True,
            "isWritablePrimary": True,
            "ismaster": True,
            "maxWireVersion": MAX_WIRE_VERSION,
            "minWireVersion": 0,
            "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
            "maxMessageSizeBytes": MAX_MESSAGE_SIZE_BYTES,
            "maxWriteBatchSize": MAX_WRITE_BATCH_SIZE,
        }

    def _build_info(self, database: str, command: Document) -> Document:
        return {"version": "6.0.0-mongomock", "versionArray": [6, 0, 0, 0]}

    def _collection(self, database: str, command: Document) -> Any:
        return self._client[database][next(iter(command.values()))]

    # ---------------------------------------------------------------- cursors

    def _first_batch(
        self, namespace: str, documents: Iterator[Document], size: int, *, single: bool = False
    ) -> Document:
        batch, rest = _batch(documents, size)
        cursor_id = 0
        if rest is not None and not single:
            cursor_id = next(self._cursor_ids)
            self._cursors[cursor_id] = _Cursor(namespace, rest)
        return {"cursor": {"id": cursor_id, "ns": namespace, "firstBatch": batch}}

    def _get_more(self, database: str, command: Document) -> Document:
        cursor_id = int(command["getMore"])
        cursor = self._cursors.pop(cursor_id, None)
        if cursor is None:
            raise CommandFailed(CURSOR_NOT_FOUND, f"cursor id {cursor_id} not found")
        batch, rest = _batch(cursor.remaining, command.get("batchSize") or sys.maxsize)
        if rest is None:
            cursor_id = 0
        else:
            self._cursors[cursor_id] = _Cursor(cursor.namespace, rest)
        return {"cursor": {"id": cursor_id, "ns": cursor.namespace, "nextBatch": batch}}

    def _kill_cursors(self, database: str, command: Document) -> Document:
        killed = [cursor_id for cursor_id in command["cursors"] if cursor_id in self._cursors]
        for cursor_id in killed:
            del self._cursors[cursor_id]
        return {"cursorsKilled": killed, "cursorsNotFound": [], "cursorsAlive": []}

    # ---------------------------------------------------------------- reads

    def _find(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        limit = int(command.get("limit", 0))
        single = bool(command.get("singleBatch")) or limit < 0
        cursor = collection.find(
            command.get("filter", {}),
            projection=command.get("projection"),
            skip=int(command.get("skip", 0)),
            limit=abs(limit),
        )
        if sort := command.get("sort"):
            cursor = cursor.sort(list(sort.items()))
        size = command.get("batchSize") or abs(limit) or DEFAULT_FIRST_BATCH
        return self._first_batch(f"{database}.{collection.name}", iter(cursor), size, single=single)

    def _aggregate(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        documents = iter(collection.aggregate(command["pipeline"]))
        size = command.get("cursor", {}).get("batchSize") or DEFAULT_FIRST_BATCH
        return self._first_batch(f"{database}.{collection.name}", documents, size)

    def _count(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        options = {key: command[key] for key in ("skip", "limit") if command.get(key)}
        return {"n": collection.count_documents(command.get("query", {}), **options)}

    def _distinct(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        return {"values": collection.distinct(command["key"], command.get("query") or {})}

    # ---------------------------------------------------------------- writes

    def _insert(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        ordered = command.get("ordered", True)
        inserted, errors = 0, []
        for index, document in enumerate(command["documents"]):
            try:
                collection.insert_one(document)
                inserted += 1
            except DuplicateKeyError as duplicate:
                errors.append(_write_error(index, duplicate))
                if ordered:
                    break
        return _write_reply(n=inserted, errors=errors)

    def _update(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        ordered = command.get("ordered", True)
        matched = modified = 0
        upserted: list[Document] = []
        errors: list[Document] = []
        for index, statement in enumerate(command["updates"]):
            try:
                result = _update_one_statement(collection, statement)
            except DuplicateKeyError as duplicate:
                errors.append(_write_error(index, duplicate))
                if ordered:
                    break
                continue
            matched += result.matched_count
            modified += result.modified_count
            if result.upserted_id is not None:
                upserted.append({"index": index, "_id": result.upserted_id})
        reply = _write_reply(n=matched + len(upserted), errors=errors)
        reply["nModified"] = modified
        if upserted:
            reply["upserted"] = upserted
        return reply

    def _delete(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        deleted = 0
        for statement in command["deletes"]:
            if statement.get("limit", 0) == 1:
                deleted += collection.delete_one(statement["q"]).deleted_count
            else:
                deleted += collection.delete_many(statement["q"]).deleted_count
        return {"n": deleted}

    def _find_and_modify(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        query = command.get("query") or {}
        sort = list(command["sort"].items()) if command.get("sort") else None
        projection = command.get("fields")
        existed = collection.find_one(query, sort=sort, projection={"_id": True})
        if command.get("remove"):
            value = collection.find_one_and_delete(query, projection=projection, sort=sort)
            return {"value": value, "lastErrorObject": {"n": 0 if value is None else 1}}
        update = command["update"]
        options: Document = {
            "projection": projection,
            "sort": sort,
            "upsert": bool(command.get("upsert")),
            "return_document": ReturnDocument.AFTER
            if command.get("new")
            else ReturnDocument.BEFORE,
        }
        try:
            if _is_replacement(update):
                value = collection.find_one_and_replace(query, update, **options)
            else:
                if command.get("arrayFilters"):
                    options["array_filters"] = command["arrayFilters"]
                value = collection.find_one_and_update(query, update, **options)
        except DuplicateKeyError as duplicate:
            raise CommandFailed(DUPLICATE_KEY, str(duplicate)) from duplicate
        last_error: Document = {"n": 1 if existed is not None or options["upsert"] else 0}
        last_error["updatedExisting"] = existed is not None
        if existed is None and options["upsert"] and value is not None and "_id" in value:
            last_error["upserted"] = value["_id"]
        return {"value": value, "lastErrorObject": last_error}

    # ---------------------------------------------------------------- indexes, collections

    def _create_indexes(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        before = len(collection.index_information())
        for index in command["indexes"]:
            options = {key: value for key, value in index.items() if key != "key"}
            try:
                collection.create_index(list(index["key"].items()), **options)
            except DuplicateKeyError as duplicate:
                raise CommandFailed(DUPLICATE_KEY, str(duplicate)) from duplicate
        after = len(collection.index_information())
        return {
            "numIndexesBefore": before,
            "numIndexesAfter": after,
            "createdCollectionAutomatically": before == 0,
        }

    def _list_indexes(self, database: str, command: Document) -> Document:
        collection = self._collection(database, command)
        if collection.name not in self._client[database].list_collection_names():
            raise CommandFailed(
                NAMESPACE_NOT_FOUND, f"ns does not exist: {database}.{collection.name}"
            )
        namespace = f"{database}.{collection.name}"
        return self._first_batch(namespace, iter(collection.list_indexes()), sys.maxsize)

    def _drop(self, database: str, command: Document) -> Document:
        self._collection(database, command).drop()
        return {}

    def _drop_database(self, database: str, command: Document) -> Document:
        self._client.drop_database(database)
        return {}


def _batch(
    documents: Iterator[Document], size: int
) -> tuple[list[Document], Iterator[Document] | None]:
    """The next `size` documents, and the rest unless there are none: a cursor is closed
    (id 0) with its last batch, as MongoDB's is, so a client has nothing to kill."""
    batch = list(itertools.islice(documents, size))
    following = next(documents, None)
    if following is None:
        return batch, None
    return batch, itertools.chain([following], documents)


def _update_one_statement(collection: Any, statement: Document) -> Any:
    query, update, upsert = statement["q"], statement["u"], bool(statement.get("upsert"))
    if _is_replacement(update):
        return collection.replace_one(query, update, upsert=upsert)
    method = collection.update_many if statement.get("multi") else collection.update_one
    return method(query, update, upsert=upsert, array_filters=statement.get("arrayFilters"))


def _is_replacement(update: Any) -> bool:
    if isinstance(update, list):
        raise CommandFailed(BAD_VALUE, "update pipelines are not supported (tests/mongo_wire.py)")
    return not any(key.startswith("$") for key in update)


def _write_error(index: int, error: OperationFailure) -> Document:
    return {"index": index, "code": error.code or DUPLICATE_KEY, "errmsg": str(error)}


def _write_reply(*, n: int, errors: list[Document]) -> Document:
    reply: Document = {"n": n}
    if errors:
        reply["writeErrors"] = errors
    return reply


def _error(code: int, message: str) -> Document:
    return {"ok": 0, "code": code, "errmsg": message}


class WireServer:
    """A `WireDatabase` served on 127.0.0.1:`port` (0: a free one) by mockupdb."""

    def __init__(self, port: int = 0) -> None:
        self.database = WireDatabase()
        # request_timeout: how long mockupdb waits on a request no responder answered; this
        # one answers every request, so it never applies.
        self._server: Any = MockupDB(port=port or None, request_timeout=1)
        self._server.append_responder(self._respond)
        self.port = 0

    def _respond(self, request: Any) -> bool:
        reply = self.database.execute(request.namespace or "admin", _plain(request.doc))
        if isinstance(request, OpMsg) and request.flags & OP_MSG_FLAGS["moreToCome"]:
            return True  # an unacknowledged write (w=0): the client reads no reply
        # mockupdb fills in ok; its keyword form would lose the order of the fields.
        request.reply(reply)
        return True

    def start(self) -> int:
        self.port = int(self._server.run())
        return self.port

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"


def _plain(value: Any) -> Any:
    """mockupdb decodes into OrderedDicts; mongomock wants plain values it can copy."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = WireServer(arguments.port)
    port = server.start()
    print(f"mongodb://127.0.0.1:{port}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        pass
    server.stop()


if __name__ == "__main__":
    main()
