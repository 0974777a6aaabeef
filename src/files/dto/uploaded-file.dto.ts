import { ApiProperty } from '@nestjs/swagger';

export class UploadedFileDto {
  @ApiProperty({
    example: '/api/v1/files/01a20e07-8e92-765c-8f2f-152e320a0cf8.png',
    description: 'Use as avatar or as the content of an image/file message',
  })
  url: string;

  @ApiProperty({ example: 'holiday.png', description: 'The client’s file name, for display only' })
  name: string;

  @ApiProperty({ type: 'integer', example: 48213 })
  size: number;

  @ApiProperty({ example: 'image/png' })
  mime: string;
}

export class UploadBodyDto {
  @ApiProperty({ type: 'string', format: 'binary' })
  file: unknown;
}
