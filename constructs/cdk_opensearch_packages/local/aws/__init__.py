"""The emulated account that ties the services together: moto for S3, IAM, SSM, EventBridge
(:mod:`.env`), constants of the account and Region (:mod:`.constants`), the background WSGI
server every local endpoint runs on (:mod:`.wsgi_server`).
"""
