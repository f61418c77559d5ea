# Production image: the official Airflow 3.3.2 image plus sfjira (its runtime dependencies only) and the
# DAG files and mappings.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root pyproject.toml README.md requirements.txt /opt/sfjira/
COPY --chown=airflow:root plugins/sfjira/ /opt/sfjira/plugins/sfjira/

# `pip install sfjira` brings only what pyproject.toml declares for the runtime (no emulators, no test
# tools). requirements.txt serves as constraints, which pin versions but install nothing by themselves,
# so the image runs what the test suite ran; the Airflow core and providers the base image already has
# are pinned to the base image's own versions instead, so the install never moves them.
RUN python -c "import subprocess, sys; \
name = lambda line: line.split('==')[0].strip().lower().replace('_', '-'); \
base = [l for l in subprocess.check_output([sys.executable, '-m', 'pip', 'freeze'], text=True).splitlines() \
        if l.lower().startswith('apache-airflow') and '==' in l]; \
kept = {name(l) for l in base}; \
ours = [l.strip() for l in open('/opt/sfjira/requirements.txt') if '==' in l and name(l) not in kept]; \
open('/tmp/constraints.txt', 'w').write('\n'.join(base + ours) + '\n')" \
 && pip install --no-cache-dir --constraint /tmp/constraints.txt /opt/sfjira

COPY --chown=airflow:root dags/ ${AIRFLOW_HOME}/dags/
COPY --chown=airflow:root include/ ${AIRFLOW_HOME}/include/

ENV SFJIRA_MAPPINGS_DIR=${AIRFLOW_HOME}/include/mappings
