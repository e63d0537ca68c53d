/// <reference types="vite/client" />

/** The product version from package.json, set by the build (vite.config.ts `define`). */
declare const __CLIENT_VERSION__: string;
