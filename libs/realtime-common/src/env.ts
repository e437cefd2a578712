/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;
