module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    testMatch: ["<rootDir>/tests/**/*.test.ts"],
    moduleNameMapper: {
        "^pulumi-alicloud-keypair-attachment/lifecycle$": "<rootDir>/provider/lifecycle.ts",
        "^pulumi-alicloud-keypair-attachment$": "<rootDir>/provider/index.ts",
    },
    testTimeout: 60000,
};
