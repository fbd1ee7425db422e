// Svelte compiler options: the defaults (TypeScript in <script lang="ts"> is built in).
export default {};
