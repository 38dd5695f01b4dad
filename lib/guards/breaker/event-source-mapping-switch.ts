import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';

/** Turns the consumption of the mail queue off and on (the breaker's actuator in AWS). */
export interface ConsumptionSwitch {
  pause(): Promise<SwitchResult>;
  resume(): Promise<SwitchResult>;
}

/** Which mappings were switched, or why none could be. */
export type SwitchResult = { ok: true; mappings: string[] } | { ok: false; error: string };

export interface EventSourceMappingSwitchOptions {
  /** The consuming function (`AWS_LAMBDA_FUNCTION_NAME` in the sender itself). */
  functionName?: string;
  /** The mail queue's ARN; mappings of other queues are left alone. */
  queueArn?: string;
  /** The queue's name, when its ARN is not known: mappings whose source ends in it. */
  queueName?: string;
  /** @default a LambdaClient from `clientConfig`, loaded on first use */
  client?: LambdaClient;
  clientConfig?: LambdaClientConfig;
}

/**
 * Disables and enables the Lambda event source mapping(s) between the mail queue and the sender:
 * while a mapping is disabled, Lambda receives nothing, so waiting messages spend no receive count.
 *
 * The mapping's UUID cannot be handed to the function through its environment (the mapping
 * depends on the function: a cycle), so it is looked up once with `ListEventSourceMappings`, by
 * function or by queue, and cached. The Lambda client is loaded on the first switch: a sender that
 * never pauses never loads it.
 */
export class EventSourceMappingSwitch implements ConsumptionSwitch {
  readonly #options: EventSourceMappingSwitchOptions;
  #client: LambdaClient | undefined;
  #uuids: string[] | undefined;

  constructor(options: EventSourceMappingSwitchOptions) {
    if (!options.functionName && !options.queueArn) {
      throw new TypeError('EventSourceMappingSwitch needs a function name or a queue ARN');
    }
    this.#options = options;
    this.#client = options.client;
  }

  pause(): Promise<SwitchResult> {
    return this.#set(false);
  }

  resume(): Promise<SwitchResult> {
    return this.#set(true);
  }

  async #set(enabled: boolean): Promise<SwitchResult> {
    try {
      const { UpdateEventSourceMappingCommand } = await import('@aws-sdk/client-lambda');
      const client = await this.#lambda();
      const uuids = await this.#mappings(client);
      if (uuids.length === 0) {
        return { ok: false, error: `no event source mapping found for ${this.#describe()}` };
      }
      for (const uuid of uuids) {
        await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
      }
      return { ok: true, mappings: uuids };
    } catch (error) {
      const e = error as Error;
      return { ok: false, error: `${e.name}: ${e.message}` };
    }
  }

  async #lambda(): Promise<LambdaClient> {
    if (!this.#client) {
      const { LambdaClient: Client } = await import('@aws-sdk/client-lambda');
      this.#client = new Client(this.#options.clientConfig ?? {});
    }
    return this.#client;
  }

  async #mappings(client: LambdaClient): Promise<string[]> {
    if (this.#uuids) return this.#uuids;
    const { ListEventSourceMappingsCommand } = await import('@aws-sdk/client-lambda');
    const { functionName, queueArn, queueName } = this.#options;
    const uuids: string[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(
        new ListEventSourceMappingsCommand({
          FunctionName: functionName,
          EventSourceArn: queueArn,
          Marker: marker,
        }),
      );
      for (const mapping of page.EventSourceMappings ?? []) {
        const source = mapping.EventSourceArn ?? '';
        if (!mapping.UUID || !source.startsWith('arn:aws')) continue;
        if (queueName && !source.endsWith(`:${queueName}`)) continue;
        if (source.split(':')[2] !== 'sqs') continue;
        uuids.push(mapping.UUID);
      }
      marker = page.NextMarker;
    } while (marker);
    if (uuids.length > 0) this.#uuids = uuids;
    return uuids;
  }

  #describe(): string {
    const { functionName, queueArn, queueName } = this.#options;
    return [
      functionName && `function ${functionName}`,
      (queueArn ?? queueName) && `queue ${queueArn ?? queueName}`,
    ]
      .filter(Boolean)
      .join(' and ');
  }
}
