import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import './styles.css'
import App from './App.vue'
import { createAppRouter } from './router'
import { locale } from './i18n'

document.documentElement.lang = locale.value
const app = createApp(App)
app.use(createPinia())
app.use(createAppRouter())
app.use(ElementPlus)
app.mount('#app')
