# News QA: the HTTP service with the seed articles indexed at build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    NEWSQA_INDEX_DIR=/app/index \
    NEWSQA_ONNX_CACHE_DIR=/app/.cache/onnx \
    NEWSQA_HOST=0.0.0.0

WORKDIR /app

# The CPU build of torch first: a plain `pip install` would pull the multi-GB CUDA build.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY indexer/ indexer/
COPY service/ service/
RUN pip install --no-cache-dir .

COPY seeds/ seeds/
# The first indexer run exports the model to ONNX (fp32; int8 plain for batches, fused for single
# queries) into NEWSQA_ONNX_CACHE_DIR, so
# the image starts serving without torch ever being imported.
RUN python -m indexer seeds --index-dir /app/index \
    && useradd --create-home --uid 10001 newsqa \
    && chown -R newsqa /app/index

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["python", "-m", "service", "--host", "0.0.0.0", "--port", "8000"]
