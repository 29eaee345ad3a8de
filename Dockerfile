# The product image: `accountability api`, `accountability worker`, `accountability topics`, ...
# Used by docker-compose.yml; the embedded default (`make run`) does not need it.
# No dev dependencies and no secrets: every setting comes from ACCOUNTABILITY_* at run time.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/accountability
ENV PATH=/opt/accountability/bin:$PATH

WORKDIR /src
# README* may be absent; pyproject.toml names it as the long description.
COPY pyproject.toml constraints.txt README* ./
COPY events/ events/
COPY projections/ projections/
COPY graphql/ graphql/
COPY services/ services/
# A normal (non-editable) install: setuptools maps the folders onto `accountability.*`.
RUN pip install -c constraints.txt .


FROM python:3.11-slim

ENV PATH=/opt/accountability/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ACCOUNTABILITY_DATA_DIR=/var/lib/accountability

RUN groupadd --system --gid 10001 accountability \
    && useradd --system --uid 10001 --gid accountability --create-home \
        --home-dir /home/accountability --shell /usr/sbin/nologin accountability \
    && install -d -o accountability -g accountability -m 0750 /var/lib/accountability

COPY --from=build /opt/accountability /opt/accountability

USER 10001:10001
WORKDIR /var/lib/accountability
EXPOSE 8000

ENTRYPOINT ["accountability"]
CMD ["--help"]
