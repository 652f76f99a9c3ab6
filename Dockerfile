# News QA: the HTTP service over a watched folder of articles, in a runtime image without torch.
#
# BASE is any Debian-like image with Python 3.11 and its venv module: python:3.11-slim
# elsewhere; `make image` builds one from Debian's packages on machines that cannot pull it.
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
# torch's CPU build comes from this index (a plain install pulls the multi-GB CUDA build; it
# is pinned, which hadolint's DL3013 cannot see through the expansion); empty: from pip's own
# configuration (PIP_FIND_LINKS, for instance).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_FIND_LINKS=""
ARG PIP_CERT=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NEWSQA_ONNX_CACHE_DIR=/app/.cache/onnx \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
# hadolint ignore=DL3013
RUN python3 -m venv /opt/venv \
    && pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch==2.13.0
COPY pyproject.toml README.md constraints.txt ./
COPY indexer/ indexer/
COPY service/ service/
RUN pip install --constraint constraints.txt .
COPY seeds/ /data/articles/
# The first build exports the model to ONNX, the one step that needs torch, and indexes the
# seeds; then torch and the packages only it uses go: serving runs the ONNX files alone.
RUN python -m indexer /data/articles --index-dir /data/index -q \
    && pip uninstall -y torch sympy mpmath networkx \
    && python -c "import service.api.app, onnxruntime, tokenizers"

FROM ${BASE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NEWSQA_ONNX_CACHE_DIR=/app/.cache/onnx \
    NEWSQA_INDEX_DIR=/data/index \
    NEWSQA_SOURCES='["/data/articles"]' \
    NEWSQA_WATCH=true \
    NEWSQA_HOST=0.0.0.0 \
    NEWSQA_PORT=8000
RUN useradd --create-home --uid 10001 newsqa
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001 /app /app
COPY --from=build --chown=10001 /data /data
USER 10001
WORKDIR /app
# The index, and the articles the service watches and reindexes (NEWSQA_WATCH=false: serve
# the index as it is).
VOLUME ["/data/index", "/data/articles"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2)"]
CMD ["python", "-m", "service"]
