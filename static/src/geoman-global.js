// Geoman's dist file is a plain script that extends the global `L`; give it
// the same Leaflet instance the app bundles. Imported first by area-editor.js.
import * as L from 'leaflet';

globalThis.L = L;
