/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The Go server that `npm run dev` proxies to (PARLEY_DEV_API overrides it).
const devServer = process.env.PARLEY_DEV_API ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    // dist/ itself keeps a committed placeholder for //go:embed (see embed.go);
    // emptyOutDir only ever clears dist/app.
    outDir: 'dist/app',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/chat.v1.': { target: devServer, changeOrigin: true },
      '/v1/': { target: devServer, changeOrigin: true },
      '/ws': {
        target: devServer,
        ws: true,
        changeOrigin: true,
        // chatd checks the Origin of WebSocket upgrades; present the proxied one.
        configure: (proxy) => proxy.on('proxyReqWs', (req) => req.setHeader('Origin', devServer)),
      },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    // IndexedDB (the outbox) in memory, as happy-dom has none.
    setupFiles: ['fake-indexeddb/auto'],
  },
})
