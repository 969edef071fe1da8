"""WeChat Official Account and WeCom assets (group "wechat")."""
