"""Articles pushed over HTTP: stored where the indexer reads them, then indexed at once.

``POST /documents`` and ``DELETE /documents/{id}`` change files in the index's managed folder
(``indexer/pushed.py``) and run the service's reindex, which the push waits for: when it
answers, the article is searchable (or gone) in the live generation, swapped in as any other
(no failed request meanwhile). A document that a file of the configured sources holds is not
the API's to replace or delete: that would fork it from its file (409).
"""

import json

from indexer import IndexSnapshot
from indexer.documents import parse_jsonl
from indexer.pushed import PushedArticles
from service.engine.reindex import Reindexer, reindex_response
from service.errors import BadQuery, DocumentConflict, DocumentNotFound
from service.schemas import DeleteResponse, PushRequest, PushResponse


def push(
    request: PushRequest,
    articles: PushedArticles,
    reindexer: Reindexer,
    live: IndexSnapshot | None,
) -> PushResponse:
    records = [doc.record() for doc in request.documents]
    for position, (doc, record) in enumerate(zip(request.documents, records, strict=True)):
        _refuse_source_document(doc.doc_id, articles, live)
        # Read back as the indexer will read it: an article of boilerplate only has no text.
        if not any(parse_jsonl(json.dumps(record), articles.folder)):
            raise BadQuery(
                f"documents.{position}.text: nothing is left of it once boilerplate is removed"
            )
    ids = articles.put(records)
    return PushResponse(doc_ids=ids, reindex=reindex_response(reindexer.run()))


def delete(
    doc_id: str, articles: PushedArticles, reindexer: Reindexer, live: IndexSnapshot | None
) -> DeleteResponse:
    _refuse_source_document(doc_id, articles, live)
    if not articles.delete(doc_id):
        raise DocumentNotFound(f"no pushed document with id {doc_id!r}")
    return DeleteResponse(doc_id=doc_id, reindex=reindex_response(reindexer.run()))


def _refuse_source_document(
    doc_id: str, articles: PushedArticles, live: IndexSnapshot | None
) -> None:
    doc = live.document(doc_id) if live is not None else None
    if doc is not None and not articles.holds(doc_id):
        raise DocumentConflict(
            f"document {doc_id!r} comes from {doc.path or 'a source file'}: change or delete "
            "that file instead"
        )
