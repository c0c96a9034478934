api_token = "tok-1234567890"
