import { Logger } from '@nestjs/common';

// Nest logs every breaker change and reconnect; tests assert on behaviour, so logs only show with TEST_LOGS=1.
if (!process.env.TEST_LOGS) Logger.overrideLogger(false);
