// Render icons/app-icon.svg to icons/app-icon.png (1024x1024) with resvg.
// Usage (from ui/): node scripts/render-icon.mjs
// Then: npx tauri icon ../icons/app-icon.png -o ../icons
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const here = dirname(fileURLToPath(import.meta.url));
const icons = resolve(here, '../../icons');
const svg = readFileSync(resolve(icons, 'app-icon.svg'), 'utf8');

const png = new Resvg(svg, {
  fitTo: { mode: 'width', value: 1024 },
  background: 'rgba(0,0,0,0)',
  font: { loadSystemFonts: false },
})
  .render()
  .asPng();

writeFileSync(resolve(icons, 'app-icon.png'), png);
console.log(`wrote ${resolve(icons, 'app-icon.png')} (${png.length} bytes)`);
