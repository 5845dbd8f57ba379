// ESLint holds the few rules that catch real bugs in this code base, on top of `tsc --strict`:
// a promise nobody awaits or handles (an unhandled rejection crashes a service, or a deploy step races),
// a value computed and never used, and `any`, which switches the type checker off. Style is Prettier's.
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["**/node_modules/**", "**/dist/**", "bin/**", "**/*.js", "**/*.mjs"] },
    {
        files: ["**/*.ts"],
        extends: [tseslint.configs.base],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        linterOptions: { reportUnusedDisableDirectives: "error" },
        rules: {
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
            ],
            "@typescript-eslint/no-unused-expressions": "error",
            "@typescript-eslint/no-explicit-any": "error",
            // A plain `require` is untyped: where one is needed (a module loaded late on purpose), say why beside it.
            "@typescript-eslint/no-require-imports": "error",
        },
    },
    {
        // Tests read the mock harness's recorded inputs, which are the provider's untyped JSON: typing each
        // access would be a cast, not a check. The test files' assertions are the check.
        files: ["tests/**/*.ts", "services/*/test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
