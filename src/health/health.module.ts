import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseModule } from '../database/database.module';
import { DatabaseHealthIndicator } from './database.health';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule, DatabaseModule],
  providers: [DatabaseHealthIndicator],
  controllers: [HealthController],
})
export class HealthModule {}
