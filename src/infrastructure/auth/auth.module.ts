import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AppConfig } from '../config/config.js';
import { ApiKeys } from './api-keys.js';
import { AuthGuard } from './auth.guard.js';

@Global()
@Module({})
export class AuthModule {
  static forRoot(config: AppConfig, keys: ApiKeys = ApiKeys.load(config)): DynamicModule {
    // The warning is for the start that created the key; later starts only say where it is.
    if (keys.keyFile?.generated) {
      new Logger('auth').warn(
        `no API key configured: an admin key was generated and stored in ${keys.keyFile.path} (readable only by its owner)`,
      );
    } else if (keys.keyFile) {
      new Logger('auth').log(`no API key configured: using the admin key stored in ${keys.keyFile.path}`);
    }
    return {
      module: AuthModule,
      providers: [
        { provide: ApiKeys, useValue: keys },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [ApiKeys],
    };
  }
}
