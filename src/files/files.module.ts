import { Module } from '@nestjs/common';
import { filesConfig, FilesConfig } from '../config/files.config';
import { FILE_STORAGE } from './file-storage';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';
import { LocalDiskStorage } from './local-disk.storage';

@Module({
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
