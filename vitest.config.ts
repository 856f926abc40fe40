import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Media tests run in real time (20 ms frames); give integration tests room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more workers than that only makes real-time tests jittery.
    maxWorkers: 2,
  },
});
