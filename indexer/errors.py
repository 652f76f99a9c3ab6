"""The indexer's exceptions, so callers can react to each failure by type.

IndexerError
├── IndexNotFound        no index at the given folder (never built, or wrong path)
├── IndexIncompatible    built with another model or format version than this code reads
├── IndexCorrupt         files missing or unreadable inside a generation
├── EmbeddingModelError  the embedding model cannot be loaded from its path
├── IndexLocked          another indexer is writing to the same index folder
├── BadSettings          a setting (environment variable or command-line option) is invalid
├── ClusterUnavailable   --ray names a cluster nothing answers at, or Ray is not installed
└── FeedUnavailable      --feed names a feed that cannot be fetched or is not RSS or Atom
"""


class IndexerError(Exception):
    """Base class of everything the indexer raises on purpose."""


class IndexNotFound(IndexerError):
    """No index exists at the folder asked for."""


class IndexIncompatible(IndexerError):
    """The index on disk was written by another model or format version."""


class IndexCorrupt(IndexerError):
    """An index generation is missing files or has unreadable ones."""


class EmbeddingModelError(IndexerError):
    """The embedding model could not be loaded."""


class IndexLocked(IndexerError):
    """Another indexer held the index folder's lock for longer than we were willing to wait."""


class BadSettings(IndexerError):
    """A setting has an invalid value; the message names its environment variable."""


class ClusterUnavailable(IndexerError):
    """``--ray`` names a cluster that cannot be reached, or Ray is not installed."""


class FeedUnavailable(IndexerError):
    """A feed that cannot be fetched or read as a feed."""
