import { Body, Controller, HttpCode, HttpStatus, Ip, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuth, ApiEnvelope, ApiErrors } from '../common/decorators/api-envelope.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { ErrorCode } from '../common/errors/error-code';
import type { AuthUser } from './auth-user';
import { AuthService } from './auth.service';
import { LoginResultDto, RegisteredUserDto, TokenDto } from './dto/auth-responses.dto';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Register a user' })
  @ApiEnvelope(RegisteredUserDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.Conflict, ErrorCode.TooManyRequests)
  register(@Body() dto: RegisterDto, @Ip() ip: string): Promise<RegisteredUserDto> {
    return this.auth.register(dto, ip);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Log in with email and password' })
  @ApiEnvelope(LoginResultDto)
  @ApiErrors(ErrorCode.BadRequest, ErrorCode.LoginFailed, ErrorCode.TooManyRequests)
  login(@Body() dto: LoginDto, @Ip() ip: string): Promise<LoginResultDto> {
    return this.auth.login(dto, ip);
  }

  @Post('logout')
  @HttpCode(HttpStatus.OK)
  @ApiAuth()
  @ApiOperation({ summary: 'Revoke the presented token' })
  @ApiEnvelope(null)
  logout(@CurrentUser() user: AuthUser): Promise<null> {
    return this.auth.logout(user);
  }

  @Put('user/password')
  @ApiAuth()
  @ApiOperation({
    summary: 'Change the password',
    description: 'Revokes every token issued before (this one included) and returns a new token.',
  })
  @ApiEnvelope(TokenDto)
  @ApiErrors(ErrorCode.BadRequest)
  changePassword(@CurrentUser() user: AuthUser, @Body() dto: ChangePasswordDto): Promise<TokenDto> {
    return this.auth.changePassword(user, dto);
  }
}
