# One image for both the proxy (default command) and the operator
# (command: node operator/src/main.ts). Node 24 runs the TypeScript sources
# directly (type stripping), so there is no build stage.
FROM node:24-slim

ENV NODE_ENV=production
# glibc keeps freed 256 KiB+ stream buffers in its heap arenas; mapping them
# separately returns them to the OS (measured: 392 -> 332 MiB peak RSS for 20
# concurrent 256 MiB cold fetches).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app

# xz and bzip2 decode apt/dnf indexes (Packages.xz, primary.xml.bz2) and .deb
# control archives; without them those digests cannot be read and packages are
# served unverified (docs/formats/deb.md).
RUN apt-get update && apt-get install -y --no-install-recommends xz-utils bzip2 \
    && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
# --ignore-scripts: the `node` npm package's install script would fetch a
# second Node binary; the base image already is Node 24.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY crds ./crds
COPY config/samples ./config/samples
COPY proxy/src ./proxy/src
COPY operator/src ./operator/src

USER node
EXPOSE 8080 8081
CMD ["node", "proxy/src/main.ts"]
