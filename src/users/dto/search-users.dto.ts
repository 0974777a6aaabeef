import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Trim } from '../../common/utils/transform';

export class SearchUsersDto {
  @ApiProperty({
    example: 'zhang',
    description: 'A username prefix (case-insensitive) or an exact email',
  })
  @Trim()
  @IsString()
  @Length(1, 254)
  keyword: string;

  @ApiPropertyOptional({ type: 'integer', example: 20, minimum: 1, maximum: 50, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit: number = 20;
}
