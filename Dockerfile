# The controller itself as an image. It talks to the Docker engine through a mounted socket:
#   docker run -d -p 127.0.0.1:3000:3000 -e HOST=0.0.0.0 \
#     -v /var/run/docker.sock:/var/run/docker.sock -v redis-controller:/data redis-controller
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
VOLUME /data
EXPOSE 3000
CMD ["node", "--max-semi-space-size=2", "dist/src/main.js"]
