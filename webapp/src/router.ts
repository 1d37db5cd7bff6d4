// Routes: /login, /register and /chat(/:roomId); chat needs a session.
import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSessionStore } from './stores/session'

/** createAppRouter builds the router with its login guard. */
export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', redirect: '/chat' },
      { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { guest: true } },
      { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { guest: true } },
      { path: '/chat/:roomId?', name: 'chat', component: () => import('./views/ChatView.vue'), meta: { auth: true } },
      { path: '/:rest(.*)*', redirect: '/chat' },
    ],
  })
  router.beforeEach(async (to) => {
    const session = useSessionStore()
    const ok = await session.restore()
    if (to.meta.auth && !ok) return { name: 'login', query: to.fullPath !== '/chat' ? { next: to.fullPath } : {} }
    if (to.meta.guest && ok) return { name: 'chat' }
    return true
  })
  return router
}
