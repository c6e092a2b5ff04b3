import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { selectBackend } from './lib/selectBackend';
import { applyTheme, loadThemeChoice } from './lib/theme';

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing');

// Before the first paint: no flash of the other theme.
applyTheme(loadThemeChoice());

const app = mount(App, { target, props: { backend: selectBackend() } });

export default app;
