# syntax=docker/dockerfile:1
# Multi-stage build: native modules (better-sqlite3) are compiled in the build stage; the
# runtime image carries only production dependencies and runs as an unprivileged user.

FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# onnxruntime-node's postinstall fetches CUDA libraries; the CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
RUN groupadd --system voxgate && useradd --system --gid voxgate --home /app voxgate \
 && mkdir -p /data && chown voxgate:voxgate /data
COPY --from=build --chown=voxgate:voxgate /app/node_modules ./node_modules
COPY --chown=voxgate:voxgate package.json tsconfig.json ./
# Run the TypeScript sources through tsx, exactly as `npm start` does: one code path, and the
# static pages under src/web are found where the code expects them.
COPY --chown=voxgate:voxgate src ./src
USER voxgate
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
