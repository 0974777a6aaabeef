import { ApiProperty } from '@nestjs/swagger';

export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400, description: 'Equals the HTTP status' })
  code: number;

  @ApiProperty({ example: '请求参数错误', description: "The contract's description of the code" })
  message: string;

  @ApiProperty({ example: 'email must be an email', description: 'The precise reason' })
  error: string;
}
