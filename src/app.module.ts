import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { HttpExceptionFilter } from './common/http/http-exception.filter';
import { createValidationPipe } from './common/http/validation';
import { appConfig, AppConfig } from './config/app.config';
import { authConfig } from './config/auth.config';
import { databaseConfig, DatabaseConfig } from './config/database.config';
import { groupsConfig } from './config/groups.config';
import { chatConfig } from './config/chat.config';
import { ChatModule } from './chat/chat.module';
import { FilesModule } from './files/files.module';
import { filesConfig } from './config/files.config';
import { validateEnv } from './config/env.validation';
import { resolveDataSourceOptions } from './database/data-source-options';
import { DatabaseModule } from './database/database.module';
import { GroupsModule } from './groups/groups.module';
import { HealthModule } from './health/health.module';
import { RedisModule } from './redis/redis.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { rateLimitConfig } from './config/rate-limit.config';
import { pinoHttpOptions } from './logging';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      // `.env` is loaded by main.ts before anything reads the environment.
      ignoreEnvFile: true,
      validate: (raw) => {
        validateEnv(raw as Record<string, string | undefined>);
        return raw;
      },
      load: [
        appConfig,
        databaseConfig,
        authConfig,
        groupsConfig,
        chatConfig,
        rateLimitConfig,
        filesConfig,
      ],
    }),
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        pinoHttp: pinoHttpOptions(config.logLevel),
        // No middleware: requests are logged from a Fastify hook (app.setup.ts).
        // This module's middleware keeps each request's logger in an AsyncLocalStorage, and on
        // Node 20 that runs async hooks for every promise and every socket write in the process.
        forRoutes: [],
      }),
    }),
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: async (config: DatabaseConfig) => ({
        ...(await resolveDataSourceOptions(config.url)),
        autoLoadEntities: true,
        migrationsRun: true,
      }),
    }),
    EventEmitterModule.forRoot(),
    DatabaseModule,
    RedisModule,
    RateLimitModule,
    HealthModule,
    UsersModule,
    AuthModule,
    GroupsModule,
    ChatModule,
    FilesModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
})
export class AppModule {}
