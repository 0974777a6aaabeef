import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { TrimLower } from '../../common/utils/transform';

export class LoginDto {
  @ApiProperty({ example: 'zhangsan@example.com' })
  @TrimLower()
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password: string;
}
