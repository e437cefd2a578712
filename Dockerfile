# The reference service (src/main.ts). One image for every role: REALTIME_ROLE=api, gateway or all (docker-compose.yml).

# Build on the full Debian image: better-sqlite3 compiles its native addon with python3, make and g++ when no
# prebuilt binary fits, and those come with it.
FROM node:20-bookworm AS build
WORKDIR /app
# Dependencies before sources, so a source change reuses the `npm ci` layer.
# npm ci builds the workspace packages (prepare), so their sources come first.
COPY package.json package-lock.json nest-cli.json tsconfig.json tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
RUN npm ci --no-audit --no-fund
COPY src ./src
# nest build compiles the service against the packages' dist/ and copies the demo page into dist/.
# Pruning here keeps the addon compiled above: the runtime image has no compiler.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Same Debian release and Node major as the build stage, so the compiled addon loads unchanged.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# node_modules/@realtime-streams/* link to the workspace packages: their package.json and dist/.
COPY --from=build /app/libs ./libs
# DATABASE_PATH defaults to data/chat.sqlite under /app; the unprivileged user must be able to create it.
RUN mkdir -p data && chown node:node data
USER node
EXPOSE 3000
# node itself as PID 1: the service handles SIGTERM/SIGINT (flush, close clients) and SIGHUP (reload routing flags).
CMD ["node", "dist/src/main.js"]
