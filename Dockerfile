# Production image: the official Airflow 3.3.2 image plus sfjira's pinned dependencies and code.
FROM apache/airflow:3.3.2-python3.11

# Install with apache-airflow pinned so nothing in requirements.txt can move Airflow itself.
COPY requirements.txt /opt/sfjira/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/sfjira/requirements.txt

COPY --chown=airflow:root dags/ ${AIRFLOW_HOME}/dags/
COPY --chown=airflow:root plugins/ ${AIRFLOW_HOME}/plugins/
COPY --chown=airflow:root include/ ${AIRFLOW_HOME}/include/

ENV SFJIRA_MAPPINGS_DIR=${AIRFLOW_HOME}/include/mappings
