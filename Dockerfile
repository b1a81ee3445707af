# GRACE Trends as an agency would run it: the wheel of this checkout, Debian's Chromium for chart exports,
# state in a volume (/data = $GRACE_HOME), a non-root user. See compose.yaml for the ETL from a case database.
#   docker build -t grace-trends .
#   docker run --rm -p 127.0.0.1:8050:8050 -v grace-data:/data grace-trends      # demo warehouse on first start
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY grace ./grace
COPY warehouse ./warehouse
COPY etl ./etl
COPY analytics ./analytics
COPY matching ./matching
COPY classification ./classification
COPY federation ./federation
COPY dashboards ./dashboards
COPY reporting ./reporting
COPY grace_cli ./grace_cli
COPY sql ./sql
COPY data_contracts ./data_contracts
# pdqhash (Meta's PDQ, for `grace hash`) is published as source only: compile its wheel here, with g++,
# so the runtime image needs no compiler.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "setuptools>=77" \
 && pip wheel --no-cache-dir --no-deps --no-build-isolation -w /dist . \
 && pip wheel --no-cache-dir --no-deps -w /dist "pdqhash>=0.2.8"

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
RUN useradd --create-home --uid 10001 grace && mkdir /data && chown grace:grace /data
USER grace
ENV GRACE_HOME=/data \
    BROWSER_PATH=/usr/bin/chromium \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/login', timeout=4)"
ENTRYPOINT ["grace"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8050"]
