# loss-service container image.
#
#   docker build -t loss-service .
#   podman build --format docker -t loss-service .   # podman: keep HEALTHCHECK
#
# Build args / secrets:
#   BASE_IMAGE   glibc Debian slim node 20 image (default node:20-bookworm-slim;
#                scripts/container/base-image.sh builds a local stand-in).
#   --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt
#                optional extra CA bundle (e.g. a TLS-intercepting proxy) used by
#                npm and node during the build only; it is never written into a layer.
#
# @tensorflow/tfjs-node is an optional dependency: `npm ci` runs its (approved)
# install script, which downloads libtensorflow. Without network access to that
# host the install fails, npm drops the package, the build still succeeds and
# the service falls back to the wasm backend (GET /info reports which one runs).

ARG BASE_IMAGE=node:20-bookworm-slim

# ----------------------------------------------------------------- deps stage
FROM ${BASE_IMAGE} AS deps
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
WORKDIR /app

# Dependencies first (cache layer keyed on the manifest + lockfile only).
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca_bundle \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    set -eu; \
    if [ -s /run/secrets/ca_bundle ]; then \
      export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle npm_config_cafile=/run/secrets/ca_bundle; \
    fi; \
    npm ci --no-audit --no-fund; \
    if [ -d node_modules/@tensorflow/tfjs-node ]; then t=installed; else t=absent; fi; \
    echo "@tensorflow/tfjs-node: $t (absent = optional install failed; the service falls back to wasm)"

# ---------------------------------------------------------------- build stage
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY schemas ./schemas
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/.cache

# ---------------------------------------------------------------- bench stage
# Load generator (docker compose --profile loadtest): dev deps + bench sources.
# Not part of the runtime image; build it with --target bench.
FROM deps AS bench
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
COPY schemas ./schemas
COPY bench ./bench
COPY scripts/lib ./scripts/lib
ENV BENCH_TARGET=http://loss:8080
CMD ["npm", "run", "bench", "--", "--target", "http://loss:8080"]

# -------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM to node and reaps zombies (cluster workers).
# (-s: stays a subreaper, and quiet, when an outer init such as `--init` or
# compose `init: true` is PID 1 instead.)
RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tini >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_LEVEL=info \
    TFJS_BACKEND=auto \
    SHUTDOWN_GRACE_MS=25000 \
    DATA_DIR=/data

# The embedded runs store (SQLite) when DATABASE_URL is unset: the one path the
# service user writes, a volume so that runs outlive the container.
RUN mkdir /data && chown 1000:1000 /data
VOLUME ["/data"]

WORKDIR /app
# Everything is owned by root and read-only for the service user, so the
# container also runs with a read-only root filesystem.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The page at GET / (html, css, js; uPlot is served from node_modules).
COPY public ./public

# Numeric uid so Kubernetes' runAsNonRoot can verify it (uid 1000 = `node`
# in the official node images and in the local stand-in).
USER 1000:1000
EXPOSE 8080

# HEALTHCHECK needs the docker image format under podman/buildah (--format docker).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "-s", "--"]
CMD ["node", "dist/src/server.js"]
