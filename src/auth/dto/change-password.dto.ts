import { ApiProperty } from '@nestjs/swagger';
import { IsByteLength, IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class ChangePasswordDto {
  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  old_password: string;

  @ApiProperty({ example: 'battery staple horse', description: '8-72 bytes (UTF-8)' })
  @IsString()
  @IsByteLength(8, 72, { message: 'new_password must be 8 to 72 bytes long' })
  new_password: string;
}
