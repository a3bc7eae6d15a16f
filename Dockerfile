# One image for every Python part of paysvc: web (gunicorn), worker (python -m paysvc.worker), beat
# and the sandbox. nginx in front is the official nginx image (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PAYSVC_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 10001 paysvc

COPY pyproject.toml README.md ./
COPY paysvc ./paysvc
COPY binance_pay ./binance_pay
COPY sandbox ./sandbox
COPY sdk ./sdk
# The merchant SDK: the sandbox's demo receiver verifies paysvc's events with it.
RUN pip install --upgrade pip && pip install . ./sdk/paysvc-webhooks

COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var && chown -R paysvc /app/var

USER paysvc
# 8000 web (gunicorn, behind nginx), 8090 sandbox, 9808 the worker's metrics exporter.
EXPOSE 8000 8090 9808
CMD ["gunicorn", "paysvc.wsgi", "--config", "python:paysvc.gunicorn_conf", "--bind", "0.0.0.0:8000"]
