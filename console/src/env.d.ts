// esbuild bundles CSS imports into main.css.
declare module "*.css";
