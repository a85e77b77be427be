// One lint for the whole repository: typescript-eslint's recommended type-checked rules on the
// TypeScript sources, the recommended JavaScript rules on the scripts and test fixtures.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
    { ignores: ["dist/**", "node_modules/**", "coverage/**", "**/node_modules/**", "bench/results/**"] },
    js.configs.recommended,
    {
        files: ["**/*.ts"],
        extends: [tseslint.configs.recommendedTypeChecked],
        languageOptions: { parserOptions: { project: "./tsconfig.lint.json", tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        files: ["**/*.js", "**/*.mjs"],
        languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
    },
    { files: ["**/*.mjs"], languageOptions: { sourceType: "module" } },
);
