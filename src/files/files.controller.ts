import {
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiAuth, ApiEnvelope, ApiErrors } from '../common/decorators/api-envelope.decorator';
import { Public } from '../common/decorators/public.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { AuthUser } from '../auth/auth-user';
import { ErrorCode } from '../common/errors/error-code';
import { UploadBodyDto, UploadedFileDto } from './dto/uploaded-file.dto';
import { FilesService } from './files.service';
import { readUpload } from './read-upload';

@ApiTags('files')
@Controller()
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Post('upload')
  @HttpCode(HttpStatus.OK)
  @ApiAuth()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadBodyDto })
  @ApiOperation({
    summary: 'Upload a file (multipart field `file`)',
    description: 'Size and type limits come from UPLOAD_MAX_BYTES and UPLOAD_TYPES.',
  })
  @ApiEnvelope(UploadedFileDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.PayloadTooLarge, ErrorCode.TooManyRequests)
  async upload(
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
  ): Promise<UploadedFileDto> {
    return this.files.upload(user.id, await readUpload(request, 'file'));
  }

  @Public()
  @Get('files/:name')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOkResponse({
    description: 'The file, with its stored type',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiOperation({ summary: 'Download an uploaded file (the url returned by /upload)' })
  @ApiErrors(ErrorCode.NotFound)
  async download(
    @Param('name') name: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<StreamableFile> {
    const file = await this.files.open(name);
    const inline = file.mime.startsWith('image/');
    void res.header('Content-Security-Policy', "default-src 'none'; sandbox");
    // Only a file found is cacheable (stored names never change content).
    void res.header('Cache-Control', 'public, max-age=31536000, immutable');
    return new StreamableFile(file.stream, {
      type: file.mime,
      length: file.size,
      disposition: inline ? 'inline' : `attachment; filename="${name}"`,
    });
  }
}
