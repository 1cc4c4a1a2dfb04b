#!/usr/bin/python3
"""A MongoDB test server: mockupdb's wire protocol in front of mongomock's engine.

No mongod can be installed on the CI machines, so the Mongo suites run against
this emulator instead: the `mongodb` driver and mongoose connect to it as to a
standalone mongod (OP_MSG, cursors, sessions accepted, transactions refused the
way a standalone refuses them). mongomock evaluates filters, updates, sorts,
projections and aggregation pipelines; this file adds what it lacks for the
suites: the commands themselves, unique indexes enforced with MongoDB's error
document (code 11000, keyPattern, keyValue), and lookups by _id that do not scan.

What it cannot prove (README, "Test it"): replica sets, transactions, change
streams, concurrency inside the server (one command runs at a time), index build
timing, collation, query plans and performance, exact error texts, durability.

Run with Debian's python3 (python3-mockupdb, python3-mongomock):
    /usr/bin/python3 server.py --port 57017
It prints `listening on 127.0.0.1:<port>` once it accepts connections.
"""

import argparse
import collections
import datetime
import itertools
import json
import os
import re
import signal
import sys
import threading
import time
import traceback

import bson
import bson.errors
import mockupdb
import mongomock
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions
from bson.int64 import Int64
from bson.regex import Regex
from mongomock import aggregate, filtering, helpers
from mongomock.collection import Collection

VERSION = '6.0.0'
MAX_WIRE_VERSION = 17  # MongoDB 6.0
MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_SECONDS = 600

# Binary subtypes 3 and 4 both stay Binary: a UUID sent by the client comes back
# with the subtype it was stored with.
mockupdb.CODEC_OPTIONS = CodecOptions(
    document_class=collections.OrderedDict,
    uuid_representation=UuidRepresentation.UNSPECIFIED,
)


class CommandError(Exception):
    """A command failure answered as {ok: 0, code, codeName, errmsg}."""

    def __init__(self, code, code_name, message, **extra):
        super().__init__(message)
        self.code = code
        self.code_name = code_name
        self.extra = extra

    def document(self):
        doc = collections.OrderedDict(ok=0.0, errmsg=str(self), code=self.code, codeName=self.code_name)
        doc.update(self.extra)
        return doc


def not_supported(what):
    return CommandError(115, 'CommandNotSupported', 'not supported by the MongoDB test server: %s' % what)


# --- unique indexes with MongoDB's duplicate key error ---------------------------------

_MISSING = object()


class DuplicateKey(mongomock.DuplicateKeyError):
    """E11000 naming the index, its key pattern and the duplicate value."""

    def __init__(self, namespace, index_name, key_pattern, key_value):
        shown = ', '.join('%s: %s' % (k, _shell(v)) for k, v in key_value.items())
        super().__init__(
            'E11000 duplicate key error collection: %s index: %s dup key: { %s }'
            % (namespace, index_name, shown),
            11000,
        )
        self.key_pattern = key_pattern
        self.key_value = key_value

    def details(self):
        return {'keyPattern': self.key_pattern, 'keyValue': self.key_value}


def _shell(value):
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _index_value(doc, field):
    try:
        return helpers.get_value_by_dot(doc, field)
    except KeyError:
        return _MISSING


def _index_keys(value):
    """The keys one field contributes: each element of an array (multikey), null for missing."""
    if value is _MISSING:
        return [None]
    if isinstance(value, list):
        return value or [None]
    return [value]


def _same_key(a, b):
    # Python says True == 1; an index does not.
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _keys_overlap(a, b):
    return any(_same_key(x, y) for x in _index_keys(a) for y in _index_keys(b))


def _ensure_uniques(self, new_data):
    """Replaces mongomock's check: names the index, and compares values instead of running a
    filter per document (a filter would also match arrays and regular expressions)."""
    for name, index in self._store.indexes.items():
        if not index.get('unique'):
            continue
        fields = [field for field, _ in index['key']]
        values = [_index_value(new_data, field) for field in fields]
        if index.get('sparse') and all(v is _MISSING for v in values):
            continue
        partial = index.get('partialFilterExpression')
        if partial is not None and not filtering.filter_applies(partial, new_data):
            continue
        for doc in self._store.documents:
            if doc is new_data or doc.get('_id') == new_data.get('_id'):
                continue
            if not all(_keys_overlap(_index_value(doc, f), v) for f, v in zip(fields, values)):
                continue
            if partial is not None and not filtering.filter_applies(partial, doc):
                continue
            raise DuplicateKey(
                self.full_name,
                name,
                collections.OrderedDict(index['key']),
                collections.OrderedDict(
                    (f, None if v is _MISSING else v) for f, v in zip(fields, values)
                ),
            )


Collection._ensure_uniques = _ensure_uniques

_insert_one_or_many = Collection._insert


def _insert(self, data, session=None, ordered=True):
    """mongomock's insert, with MongoDB's error for a taken _id: the `_id_` index, its key
    pattern and the value, as for every other unique index."""
    if isinstance(data, dict) and '_id' in data:
        object_id = data['_id']
        key = helpers.hashdict(object_id) if isinstance(object_id, dict) else object_id
        if key in self._store:
            raise DuplicateKey(
                self.full_name,
                '_id_',
                collections.OrderedDict([('_id', 1)]),
                collections.OrderedDict([('_id', object_id)]),
            )
    return _insert_one_or_many(self, data, session=session, ordered=ordered)


Collection._insert = _insert


# --- lookups by _id without a collection scan ---------------------------------------------

_scan_documents = Collection._iter_documents
_REGEX_TYPES = (re.Pattern, Regex)


def _id_lookup(search_filter):
    """The _id values a filter is limited to, or None when it is not limited to a list of them."""
    if not isinstance(search_filter, dict) or '_id' not in search_filter:
        return None
    wanted = search_filter['_id']
    if isinstance(wanted, dict):
        if set(wanted) == {'$eq'}:
            wanted = wanted['$eq']
        elif set(wanted) == {'$in'} and isinstance(wanted['$in'], list):
            values = wanted['$in']
            if any(isinstance(v, (_REGEX_TYPES, dict, list)) for v in values):
                return None
            return values
        elif any(key.startswith('$') for key in wanted):
            return None
    if isinstance(wanted, (_REGEX_TYPES, list)):
        return None
    return [wanted]


def _required_paths(search_filter):
    """Top-level `{path: {$exists: true}}` conditions: a document without the path cannot match."""
    if not isinstance(search_filter, dict):
        return []
    return [
        path.split('.') for path, condition in search_filter.items()
        if not path.startswith('$') and isinstance(condition, dict) and condition.get('$exists') is True
    ]


def _lacks(doc, parts):
    """True only when the path certainly is not there; through an array, filter_applies decides."""
    value = doc
    for part in parts:
        if not isinstance(value, dict):
            return not isinstance(value, list)
        if part not in value:
            return True
        value = value[part]
    return False


def _iter_documents(self, search_filter):
    wanted = _id_lookup(search_filter)
    if wanted is None:
        required = _required_paths(search_filter)
        if not required or self._store.is_empty:
            return _scan_documents(self, search_filter)
        # Scanning for documents that carry a field (the outbox relay's query) costs a
        # dict lookup per document that does not, instead of a whole filter.
        return (
            doc for doc in list(self._store.documents)
            if not any(_lacks(doc, parts) for parts in required) and filtering.filter_applies(search_filter, doc)
        )
    store = self._store
    found, seen = [], set()
    for value in wanted:
        key = helpers.hashdict(value) if isinstance(value, dict) else value
        try:
            if key in seen or key not in store:
                continue
        except TypeError:
            return _scan_documents(self, search_filter)
        seen.add(key)
        found.append(store[key])
    return (doc for doc in found if filtering.filter_applies(search_filter, doc))


Collection._iter_documents = _iter_documents


# --- the commands ----------------------------------------------------------------------

def _sort_list(sort):
    if not sort:
        return None
    return [(key, direction) for key, direction in sort.items()]


def _write_error(index, error):
    if isinstance(error, DuplicateKey):
        return collections.OrderedDict(index=index, code=11000, errmsg=str(error), **error.details())
    if isinstance(error, mongomock.DuplicateKeyError):
        return collections.OrderedDict(index=index, code=11000, errmsg=str(error))
    if isinstance(error, mongomock.WriteError):
        return collections.OrderedDict(index=index, code=error.code or 2, errmsg=str(error))
    if isinstance(error, (ValueError, bson.errors.InvalidDocument, mongomock.OperationFailure)):
        return collections.OrderedDict(index=index, code=2, errmsg=str(error))
    raise error


def _write_reply(reply, errors):
    """A write command succeeds as a command; what failed per document is in writeErrors."""
    if errors:
        reply['writeErrors'] = errors
    reply['ok'] = 1.0
    return reply


def _unsupported_options(spec, *names):
    for name in names:
        value = spec.get(name)
        if value not in (None, {}, []):
            if name == 'collation' and value.get('locale') == 'simple':
                continue
            raise not_supported(name)


class Engine:
    """The commands, on one mongomock client. Callers hold `lock`: one command at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.client = mongomock.MongoClient()
        self.cursors = {}
        self.cursor_ids = itertools.count(1)
        self.connection_ids = itertools.count(1)
        self.started = time.time()

    def collection(self, db, name):
        if not isinstance(name, str) or not name:
            raise CommandError(73, 'InvalidNamespace', 'invalid collection name: %r' % (name,))
        return self.client[db][name]

    def run(self, db, command, connection_id):
        name = next(iter(command), None)
        if name is None:
            raise CommandError(59, 'CommandNotFound', 'no command given')
        if command.get('txnNumber') is not None or command.get('startTransaction'):
            # A standalone mongod's answer: drivers then report transactions as unsupported.
            raise CommandError(
                20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos'
            )
        handler = COMMANDS.get(name) or COMMANDS.get(name.lower())
        if handler is None:
            raise CommandError(59, 'CommandNotFound', "no such command: '%s'" % name)
        self.expire_cursors()
        return handler(self, db, command, connection_id)

    # cursors

    def cursor_reply(self, db, collection_name, docs, batch_size, single_batch=False):
        size = batch_size or DEFAULT_FIRST_BATCH
        first, rest = docs[:size], docs[size:]
        cursor_id = 0
        namespace = '%s.%s' % (db, collection_name)
        if rest and not single_batch:
            cursor_id = next(self.cursor_ids)
            self.cursors[cursor_id] = {'docs': rest, 'ns': namespace, 'touched': time.time()}
        return collections.OrderedDict(
            cursor=collections.OrderedDict(firstBatch=first, id=Int64(cursor_id), ns=namespace), ok=1.0
        )

    def expire_cursors(self):
        idle = time.time() - CURSOR_IDLE_SECONDS
        for cursor_id in [i for i, c in self.cursors.items() if c['touched'] < idle]:
            del self.cursors[cursor_id]


def cmd_hello(engine, db, command, connection_id):
    reply = collections.OrderedDict(
        helloOk=True,
        isWritablePrimary=True,
        ismaster=True,
        maxBsonObjectSize=MAX_BSON_OBJECT_SIZE,
        maxMessageSizeBytes=48000000,
        maxWriteBatchSize=100000,
        localTime=datetime.datetime.utcnow(),
        # Sessions exist on a standalone mongod; no topologyVersion, so drivers poll
        # (an awaited hello would hold the one command slot).
        logicalSessionTimeoutMinutes=30,
        connectionId=connection_id,
        minWireVersion=0,
        maxWireVersion=MAX_WIRE_VERSION,
        readOnly=False,
        ok=1.0,
    )
    return reply


def cmd_ok(engine, db, command, connection_id):
    return {'ok': 1.0}


def cmd_build_info(engine, db, command, connection_id):
    return collections.OrderedDict(
        version=VERSION,
        gitVersion='mongomock-%s' % mongomock.__version__,
        versionArray=[int(p) for p in VERSION.split('.')] + [0],
        bits=64,
        maxBsonObjectSize=MAX_BSON_OBJECT_SIZE,
        storageEngines=['mongomock'],
        ok=1.0,
    )


def cmd_server_status(engine, db, command, connection_id):
    return collections.OrderedDict(
        host='127.0.0.1',
        version=VERSION,
        process='mongomock',
        uptime=time.time() - engine.started,
        localTime=datetime.datetime.utcnow(),
        ok=1.0,
    )


def cmd_whatsmyuri(engine, db, command, connection_id):
    return {'you': '127.0.0.1:0', 'ok': 1.0}


def cmd_find(engine, db, command, connection_id):
    _unsupported_options(command, 'collation')
    name = command['find']
    coll = engine.collection(db, name)
    limit = abs(int(command.get('limit') or 0))
    cursor = coll.find(
        command.get('filter') or {},
        projection=command.get('projection') or None,
        skip=int(command.get('skip') or 0),
        limit=limit,
        sort=_sort_list(command.get('sort')),
    )
    docs = list(cursor)
    single = bool(command.get('singleBatch')) or (command.get('limit') or 0) < 0
    batch = int(command.get('batchSize') or 0) or (len(docs) if single else 0)
    return engine.cursor_reply(db, name, docs, batch, single)


def cmd_get_more(engine, db, command, connection_id):
    cursor_id = int(command['getMore'])
    cursor = engine.cursors.get(cursor_id)
    if cursor is None:
        raise CommandError(43, 'CursorNotFound', 'cursor id %d not found' % cursor_id)
    size = int(command.get('batchSize') or 0) or len(cursor['docs'])
    batch, cursor['docs'] = cursor['docs'][:size], cursor['docs'][size:]
    cursor['touched'] = time.time()
    if not cursor['docs']:
        del engine.cursors[cursor_id]
        cursor_id = 0
    return collections.OrderedDict(
        cursor=collections.OrderedDict(nextBatch=batch, id=Int64(cursor_id), ns=cursor['ns']), ok=1.0
    )


def cmd_kill_cursors(engine, db, command, connection_id):
    killed = []
    for cursor_id in command.get('cursors') or []:
        if engine.cursors.pop(int(cursor_id), None) is not None:
            killed.append(cursor_id)
    return collections.OrderedDict(cursorsKilled=killed, cursorsNotFound=[], cursorsAlive=[], ok=1.0)


def cmd_insert(engine, db, command, connection_id):
    coll = engine.collection(db, command['insert'])
    ordered = command.get('ordered', True)
    inserted, errors = 0, []
    for index, doc in enumerate(command.get('documents') or []):
        try:
            coll._insert(doc)
            inserted += 1
        except Exception as error:  # noqa: BLE001 - translated, or re-raised by _write_error
            errors.append(_write_error(index, error))
            if ordered:
                break
    return _write_reply(collections.OrderedDict(n=inserted), errors)


def cmd_update(engine, db, command, connection_id):
    coll = engine.collection(db, command['update'])
    ordered = command.get('ordered', True)
    matched = modified = 0
    upserted, errors = [], []
    for index, spec in enumerate(command.get('updates') or []):
        try:
            _unsupported_options(spec, 'collation', 'arrayFilters')
            if isinstance(spec.get('u'), list):
                raise not_supported('update pipelines')
            result = coll._update(spec.get('q') or {}, spec['u'], upsert=bool(spec.get('upsert')),
                                  multi=bool(spec.get('multi')))
        except CommandError as error:
            errors.append(collections.OrderedDict(index=index, code=error.code, errmsg=str(error)))
        except Exception as error:  # noqa: BLE001
            errors.append(_write_error(index, error))
        else:
            if result.get('upserted') is not None:
                upserted.append(collections.OrderedDict(index=index, _id=result['upserted']))
                matched += 1
            else:
                matched += result['n']
                modified += result['nModified']
            continue
        if ordered:
            break
    reply = collections.OrderedDict(n=matched, nModified=modified)
    if upserted:
        reply['upserted'] = upserted
    return _write_reply(reply, errors)


def cmd_delete(engine, db, command, connection_id):
    coll = engine.collection(db, command['delete'])
    deleted = 0
    for spec in command.get('deletes') or []:
        _unsupported_options(spec, 'collation')
        result = coll._delete(spec.get('q') or {}, multi=int(spec.get('limit') or 0) == 0)
        deleted += result['n']
    return collections.OrderedDict(n=deleted, ok=1.0)


def cmd_find_and_modify(engine, db, command, connection_id):
    _unsupported_options(command, 'collation', 'arrayFilters')
    coll = engine.collection(db, next(iter(command.values())))
    query = command.get('query') or {}
    update = command.get('update')
    remove = bool(command.get('remove'))
    fields = command.get('fields') or None
    if isinstance(update, list):
        raise not_supported('update pipelines')
    if remove == (update is not None):
        raise CommandError(9, 'FailedToParse', 'Either an update or remove=true must be specified')
    try:
        old = coll.find_one(query, sort=_sort_list(command.get('sort')))
        if old is None:
            if remove or not command.get('upsert'):
                last = collections.OrderedDict(n=0, updatedExisting=False)
                return collections.OrderedDict(lastErrorObject=last, value=None, ok=1.0)
            new_id = coll._update(query, update, upsert=True)['upserted']
            value = coll.find_one({'_id': new_id}, projection=fields) if command.get('new') else None
            last = collections.OrderedDict(n=1, updatedExisting=False, upserted=new_id)
            return collections.OrderedDict(lastErrorObject=last, value=value, ok=1.0)
        by_id = {'_id': old['_id']}
        before = coll.find_one(by_id, projection=fields)
        if remove:
            coll._delete(by_id)
            value = before
        else:
            coll._update(by_id, update)
            value = coll.find_one(by_id, projection=fields) if command.get('new') else before
    except DuplicateKey as error:
        raise CommandError(11000, 'DuplicateKey', str(error), **error.details()) from error
    except mongomock.DuplicateKeyError as error:
        raise CommandError(11000, 'DuplicateKey', str(error)) from error
    last = collections.OrderedDict(n=1, updatedExisting=not remove)
    return collections.OrderedDict(lastErrorObject=last, value=value, ok=1.0)


def cmd_aggregate(engine, db, command, connection_id):
    _unsupported_options(command, 'collation')
    target = command['aggregate']
    if not isinstance(target, str):
        raise not_supported('database aggregations')
    pipeline = list(command.get('pipeline') or [])
    if any('$changeStream' in stage for stage in pipeline):
        raise CommandError(40573, 'Location40573', 'The $changeStream stage is only supported on replica sets')
    coll = engine.collection(db, target)
    # mongomock copies the whole collection before the first stage: a leading $match
    # goes through find instead, which uses the _id lookup.
    if pipeline and set(pipeline[0]) == {'$match'}:
        docs = list(coll.find(pipeline.pop(0)['$match']))
    else:
        docs = list(coll.find())
    result = list(aggregate.process_pipeline(docs, coll.database, pipeline, None))
    batch = int((command.get('cursor') or {}).get('batchSize') or 0)
    return engine.cursor_reply(db, target, result, batch)


def cmd_count(engine, db, command, connection_id):
    coll = engine.collection(db, command['count'])
    kwargs = {}
    if command.get('skip'):
        kwargs['skip'] = int(command['skip'])
    if command.get('limit'):
        kwargs['limit'] = abs(int(command['limit']))
    return collections.OrderedDict(n=coll.count_documents(command.get('query') or {}, **kwargs), ok=1.0)


def cmd_distinct(engine, db, command, connection_id):
    coll = engine.collection(db, command['distinct'])
    return collections.OrderedDict(values=coll.distinct(command['key'], command.get('query') or {}), ok=1.0)


def cmd_create_indexes(engine, db, command, connection_id):
    coll = engine.collection(db, command['createIndexes'])
    existed = bool(coll._store.is_created)
    before = len(coll._store.indexes) + (1 if existed else 0)
    for spec in command.get('indexes') or []:
        key = list(spec['key'].items())
        name = spec.get('name') or helpers.gen_index_name(key)
        for other_name, other in coll._store.indexes.items():
            if other['key'] == key and other_name != name:
                raise CommandError(
                    85, 'IndexOptionsConflict',
                    'Index already exists with a different name: %s' % other_name,
                )
        options = {}
        for option in ('unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'):
            if spec.get(option) is not None:
                options[option] = spec[option]
        try:
            coll.create_index(key, name=name, **options)
        except mongomock.DuplicateKeyError as error:
            raise CommandError(11000, 'DuplicateKey', 'E11000 duplicate key error: index build failed') from error
        except mongomock.OperationFailure as error:
            raise CommandError(86, 'IndexKeySpecsConflict', str(error)) from error
    coll._store.create()
    return collections.OrderedDict(
        createdCollectionAutomatically=not existed,
        numIndexesBefore=before,
        numIndexesAfter=len(coll._store.indexes) + 1,
        ok=1.0,
    )


def cmd_list_indexes(engine, db, command, connection_id):
    name = command['listIndexes']
    coll = engine.collection(db, name)
    if not coll._store.is_created:
        raise CommandError(26, 'NamespaceNotFound', 'ns does not exist: %s.%s' % (db, name))
    indexes = []
    for info in coll.list_indexes():
        doc = collections.OrderedDict(v=2, key=collections.OrderedDict(info['key']), name=info['name'])
        for option in ('unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds'):
            if option in info:
                doc[option] = info[option]
        indexes.append(doc)
    return engine.cursor_reply(db, name, indexes, 0, single_batch=True)


def cmd_drop_indexes(engine, db, command, connection_id):
    coll = engine.collection(db, command['dropIndexes'])
    target = command.get('index')
    if target == '*':
        coll.drop_indexes()
    else:
        if isinstance(target, dict):
            target = helpers.gen_index_name(list(target.items()))
        try:
            coll.drop_index(target)
        except mongomock.OperationFailure as error:
            raise CommandError(27, 'IndexNotFound', str(error)) from error
    return {'ok': 1.0}


def cmd_create(engine, db, command, connection_id):
    name = command['create']
    coll = engine.collection(db, name)
    if coll._store.is_created:
        raise CommandError(48, 'NamespaceExists', 'Collection %s.%s already exists.' % (db, name))
    coll._store.create()
    return {'ok': 1.0}


def cmd_drop(engine, db, command, connection_id):
    name = command['drop']
    coll = engine.collection(db, name)
    indexes = len(coll._store.indexes) + 1
    coll._store.drop()
    return collections.OrderedDict(nIndexesWas=indexes, ns='%s.%s' % (db, name), ok=1.0)


def cmd_drop_database(engine, db, command, connection_id):
    engine.client.drop_database(db)
    stale = [i for i, c in engine.cursors.items() if c['ns'].startswith(db + '.')]
    for cursor_id in stale:
        del engine.cursors[cursor_id]
    return collections.OrderedDict(dropped=db, ok=1.0)


def cmd_list_collections(engine, db, command, connection_id):
    names = engine.client[db].list_collection_names()
    infos = [
        collections.OrderedDict(
            name=name, type='collection', options={}, info=collections.OrderedDict(readOnly=False),
            idIndex=collections.OrderedDict(v=2, key={'_id': 1}, name='_id_'),
        )
        for name in sorted(names)
    ]
    search = command.get('filter') or {}
    infos = [info for info in infos if filtering.filter_applies(search, info)]
    if command.get('nameOnly'):
        infos = [collections.OrderedDict(name=i['name'], type=i['type']) for i in infos]
    return engine.cursor_reply(db, '$cmd.listCollections', infos, 0, single_batch=True)


def cmd_list_databases(engine, db, command, connection_id):
    names = engine.client.list_database_names()
    dbs = [collections.OrderedDict(name=name, sizeOnDisk=0, empty=False) for name in sorted(names)]
    if command.get('nameOnly'):
        dbs = [{'name': d['name']} for d in dbs]
    return collections.OrderedDict(databases=dbs, totalSize=0, ok=1.0)


def cmd_no_transactions(engine, db, command, connection_id):
    raise CommandError(
        20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos'
    )


COMMANDS = {
    'hello': cmd_hello,
    'ismaster': cmd_hello,
    'isMaster': cmd_hello,
    'ping': cmd_ok,
    'endSessions': cmd_ok,
    'killAllSessions': cmd_ok,
    'refreshSessions': cmd_ok,
    'logout': cmd_ok,
    'getLastError': cmd_ok,
    'buildInfo': cmd_build_info,
    'buildinfo': cmd_build_info,
    'serverStatus': cmd_server_status,
    'whatsmyuri': cmd_whatsmyuri,
    'find': cmd_find,
    'getMore': cmd_get_more,
    'killCursors': cmd_kill_cursors,
    'insert': cmd_insert,
    'update': cmd_update,
    'delete': cmd_delete,
    'findAndModify': cmd_find_and_modify,
    'findandmodify': cmd_find_and_modify,
    'aggregate': cmd_aggregate,
    'count': cmd_count,
    'distinct': cmd_distinct,
    'createIndexes': cmd_create_indexes,
    'listIndexes': cmd_list_indexes,
    'dropIndexes': cmd_drop_indexes,
    'deleteIndexes': cmd_drop_indexes,
    'create': cmd_create,
    'drop': cmd_drop,
    'dropDatabase': cmd_drop_database,
    'listCollections': cmd_list_collections,
    'listDatabases': cmd_list_databases,
    'commitTransaction': cmd_no_transactions,
    'abortTransaction': cmd_no_transactions,
}


# --- the wire ------------------------------------------------------------------------

MORE_TO_COME = mockupdb.OP_MSG_FLAGS['moreToCome']


class Server(mockupdb.MockupDB):
    """mockupdb's listener and message framing; the engine answers every request."""

    def __init__(self, engine, host, port, verbose=False):
        super().__init__(port=port)
        self._address = (host, port)
        self.engine = engine
        self.debug = verbose

    def _server_loop(self, client, client_addr):
        # Replaces mockupdb's loop, which holds its lock while it sends and lets any
        # exception end the connection thread with the client still waiting. Here the
        # engine lock covers only the command; replies are sent outside it.
        connection_id = next(self.engine.connection_ids)
        try:
            while not self._stopped:
                try:
                    request = mockupdb.mock_server_receive_request(client, self)
                except (OSError, EOFError):
                    return
                except Exception:  # noqa: BLE001 - an unknown opcode or a malformed message
                    sys.stderr.write('mongo test server: unreadable message, closing the connection\n')
                    traceback.print_exc()
                    return
                reply = self.answer(request, connection_id)
                if isinstance(request, mockupdb.OpMsg) and request.flags & MORE_TO_COME:
                    continue
                try:
                    message = self.encode(request, reply)
                except Exception as error:  # noqa: BLE001 - a value BSON cannot hold
                    traceback.print_exc()
                    failure = CommandError(1, 'InternalError', 'reply not encodable: %s' % error)
                    message = self.encode(request, failure.document())
                try:
                    client.sendall(message)
                except OSError:
                    return
        finally:
            try:
                client.close()
            except OSError:
                pass

    @staticmethod
    def encode(request, reply):
        if isinstance(request, mockupdb.OpMsg):
            return mockupdb.OpMsgReply(reply).reply_bytes(request)
        return mockupdb.OpReply(reply).reply_bytes(request)

    def answer(self, request, connection_id):
        command = request.doc
        if '$query' in command:
            command = command['$query']
        db = command.get('$db') or request.namespace.split('.', 1)[0]
        waited = time.time()
        started = waited
        try:
            with self.engine.lock:
                started = time.time()
                reply = self.engine.run(db, command, connection_id)
        except CommandError as error:
            reply = error.document()
        except NotImplementedError as error:
            reply = not_supported(str(error) or 'this operation').document()
        except (mongomock.OperationFailure, ValueError, TypeError, KeyError, bson.errors.BSONError) as error:
            reply = CommandError(2, 'BadValue', '%s: %s' % (type(error).__name__, error)).document()
        except Exception as error:  # noqa: BLE001 - answered, never a hung client
            traceback.print_exc()
            reply = CommandError(1, 'InternalError', '%s: %s' % (type(error).__name__, error)).document()
        if self.debug:
            name = next(iter(command), '?')
            sys.stderr.write('%s %s.%s %.1f ms (%.1f ms waiting for the lock) ok=%s\n' % (
                connection_id, db, name, (time.time() - started) * 1000, (started - waited) * 1000, reply.get('ok')))
        return reply


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=57017)
    parser.add_argument('--verbose', action='store_true', help='log every command to stderr')
    args = parser.parse_args()
    server = Server(Engine(), args.host, args.port, args.verbose)
    server.run()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print('listening on %s:%d' % (args.host, server.port), flush=True)
    while not stopped.wait(0.2):
        pass
    # Nothing to flush (the data lives in memory), and joining every connection thread
    # would keep a stopping CI waiting on clients that never hang up.
    os._exit(0)


if __name__ == '__main__':
    main()
