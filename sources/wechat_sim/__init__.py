"""An offline simulator of the WeChat Official Account and WeCom server APIs (reference/wechat-api.md §4).

The platform's client (``sources.wechat``) never imports this package: it only knows a base URL.
"""
