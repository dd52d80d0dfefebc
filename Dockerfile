# notice-dispatch: one image for `notice worker`, `notice receive` and `notice serve`.
# Node 24 strips the TypeScript types itself, so the "compiled code" is the sources as they are:
# no transpiler in the image. (Untested here: the development machine has no Docker engine.)
#   docker build -t notice-dispatch .
#   docker run --rm notice-dispatch config
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` package (Node 24 for machines whose Node is older) is
# optional and not needed on this image.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY queues ./queues
COPY workers ./workers
COPY migrations ./migrations
COPY templates ./templates
COPY deploy ./deploy

FROM node:24-bookworm-slim
# The Japanese font letters.pdf is printed with.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-ipaexfont-mincho && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /app /app
ENV NODE_ENV=production
USER node
ENTRYPOINT ["node", "bin/notice.js"]
CMD ["worker"]
