import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { memoryStorage } from 'multer';
import { filesConfig, FilesConfig } from '../config/files.config';
import { FILE_STORAGE } from './file-storage';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';
import { LocalDiskStorage } from './local-disk.storage';

@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [filesConfig.KEY],
      useFactory: (config: FilesConfig) => ({
        storage: memoryStorage(),
        defParamCharset: 'utf8',
        limits: { fileSize: config.maxBytes, files: 1, fields: 5, parts: 10 },
      }),
    }),
  ],
  controllers: [FilesController],
  providers: [
    FilesService,
    {
      provide: FILE_STORAGE,
      inject: [filesConfig.KEY],
      useFactory: (config: FilesConfig) => new LocalDiskStorage(config.dir),
    },
  ],
})
export class FilesModule {}
