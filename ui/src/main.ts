import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { selectBackend } from './lib/selectBackend';

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing');

const app = mount(App, { target, props: { backend: selectBackend() } });

export default app;
