// Routes: /login, /register, /chat(/:roomId), /friends and /settings; all but
// the first two need a session.
import { createRouter, createWebHistory, type Router } from 'vue-router'
import { useSessionStore } from './stores/session'

const chatView = () => import('./views/ChatView.vue')

/** createAppRouter builds the router with its login guard. */
export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', redirect: '/chat' },
      { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { guest: true } },
      { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue'), meta: { guest: true } },
      { path: '/chat/:roomId?', name: 'chat', component: chatView, meta: { auth: true } },
      // The same view as chat (one component, so the socket and sidebar stay) with a page instead of a room.
      { path: '/friends', name: 'friends', component: chatView, meta: { auth: true } },
      { path: '/settings', name: 'settings', component: chatView, meta: { auth: true } },
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
